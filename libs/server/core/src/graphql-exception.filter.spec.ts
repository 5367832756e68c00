import { BadRequestException } from '@nestjs/common';
import { GraphQLError } from 'graphql';
import { ErrorKind, defineException } from './errors';
import { toGraphqlError } from './graphql-exception.filter';

enum SampleCode {
  GONE = 'GONE',
  BAD = 'BAD',
}
const SampleException = defineException<SampleCode>('SampleException', { [SampleCode.GONE]: ErrorKind.NOT_FOUND, [SampleCode.BAD]: ErrorKind.BAD_USER_INPUT });

describe(toGraphqlError.name, () => {
  it('turns a domain exception into its kind as extensions.code, keeping the module code and details', () => {
    const e = toGraphqlError(new SampleException('cluster x not found', SampleCode.GONE, { field: 'id' }));
    expect(e.message).toBe('cluster x not found');
    expect(e.extensions).toEqual({ code: 'NOT_FOUND', reason: 'GONE', field: 'id' });
  });

  it('keeps field problems on BAD_USER_INPUT', () => {
    const problems = [{ field: 'spec.rabbitmq', code: 'REQUIRED', message: 'rabbitmq is required.' }];
    expect(toGraphqlError(new SampleException('bad', SampleCode.BAD, { field: 'spec.rabbitmq', problems })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', problems });
  });

  it('hides an unknown error behind INTERNAL and reports it to the log', () => {
    const logged: unknown[] = [];
    const e = toGraphqlError(new Error('connection to 10.0.0.5:5432 refused, password=hunter2'), (x) => logged.push(x));
    expect(e.message).toBe('Internal error');
    expect(e.extensions).toEqual({ code: 'INTERNAL' });
    expect(logged).toHaveLength(1);
  });

  it('translates Nest HTTP exceptions by status', () => {
    expect(toGraphqlError(new BadRequestException('nope')).extensions.code).toBe('BAD_USER_INPUT');
  });

  it('passes GraphQL errors from graphql-js through unchanged', () => {
    const original = new GraphQLError('Unknown argument "x"');
    expect(toGraphqlError(original)).toBe(original);
  });
});
