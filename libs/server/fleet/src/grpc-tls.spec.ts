import { ConfigError } from '@triad/server-core';
import { grpcTls } from './fleet.module';

describe(grpcTls.name, () => {
  it('refuses plaintext agent gRPC unless GRPC_INSECURE says so', () => {
    expect(() => grpcTls({ GRPC_INSECURE: false })).toThrow(ConfigError);
    expect(() => grpcTls({ GRPC_INSECURE: false })).toThrow(/agent gRPC needs TLS: set GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE/);
    expect(grpcTls({ GRPC_INSECURE: true })).toBeUndefined();
  });

  it('needs the certificate and its key together, and not beside GRPC_INSECURE', () => {
    expect(() => grpcTls({ GRPC_TLS_CERT_FILE: '/c.pem', GRPC_INSECURE: false })).toThrow(/must be set together/);
    expect(() => grpcTls({ GRPC_TLS_KEY_FILE: '/k.pem', GRPC_INSECURE: true })).toThrow(/must be set together/);
    expect(() => grpcTls({ GRPC_TLS_CERT_FILE: '/c.pem', GRPC_TLS_KEY_FILE: '/k.pem', GRPC_INSECURE: true })).toThrow(/GRPC_INSECURE=true contradicts/);
  });
});
