/**
 * The reasons `esp-certs revoke --reason` takes, and their RFC 5280 CRLReason codes. Apart from
 * crl.ts so that the CLI can list them without loading the X.509 library.
 */
export const REVOCATION_REASONS = {
  keyCompromise: 1,
  superseded: 4,
  cessationOfOperation: 5,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;
export const REVOCATION_REASON_NAMES = Object.keys(REVOCATION_REASONS) as RevocationReason[];

/**
 * Without --reason: a device's key sits unencrypted in its flash, so a board that is gone is
 * assumed to have given its key away. (Every entry then carries a reason code, which also keeps
 * @peculiar/x509 from writing an empty entry-extensions SEQUENCE, which RFC 5280 forbids.)
 */
export const DEFAULT_REASON: RevocationReason = "keyCompromise";
