import { base62, hashSecret, issueSecret, looksLikeSecret, secretPrefix } from './secrets';

describe(issueSecret.name, () => {
  it('issues 256-bit secrets of one fixed shape per kind, different every time', () => {
    const a = issueSecret('pat');
    const b = issueSecret('pat');
    expect(a.secret).toMatch(/^triad_pat_[0-9A-Za-z]{43}$/);
    expect(issueSecret('enr').secret).toMatch(/^triad_enr_[0-9A-Za-z]{43}$/);
    expect(a.secret).not.toBe(b.secret);
  });

  it('stores only a sha256 of the secret and shows a prefix that does not give it away', () => {
    const { secret, hash, prefix } = issueSecret('enr');
    expect(hash).toBe(hashSecret(secret));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(prefix).toBe(secretPrefix(secret));
    expect(prefix).toMatch(/^triad_enr_[0-9A-Za-z]{4}$/);
  });

  it('keeps the width for small numbers (leading zero bytes)', () => {
    expect(base62(new Uint8Array(32))).toHaveLength(43);
    expect(base62(new Uint8Array(32).fill(255))).toHaveLength(43);
  });

  it('recognises only its own kind', () => {
    const { secret } = issueSecret('pat');
    expect(looksLikeSecret('pat', secret)).toBe(true);
    expect(looksLikeSecret('enr', secret)).toBe(false);
    expect(looksLikeSecret('pat', `${secret}x`)).toBe(false);
  });
});
