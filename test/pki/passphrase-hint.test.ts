// The fix printed when no CA passphrase was given: --no-ca-passphrase only for a CA yet to be
// made (revoke, provision and generate on an existing CA have no such flag, or no use for it).
import { describe, expect, it } from "vitest";
import { EspCertsError } from "../../src/errors.js";
import { passphraseGetter } from "../../src/pki/passphrase.js";

async function failure(purpose: "unlock" | "create"): Promise<EspCertsError> {
  const err = await passphraseGetter({}, purpose)().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EspCertsError);
  return err as EspCertsError;
}

describe("the missing CA passphrase's fix", () => {
  it("offers --no-ca-passphrase for a new CA only", async () => {
    const create = await failure("create");
    expect(create.message).toContain("Cannot create the CA");
    expect(create.fix).toContain("ESP_CERTS_CA_PASSPHRASE");
    expect(create.fix).toContain("--no-ca-passphrase");
    const unlock = await failure("unlock");
    expect(unlock.message).toContain("Cannot use the CA key");
    expect(unlock.fix).toContain("--ca-passphrase-file FILE");
    expect(unlock.fix).not.toContain("--no-ca-passphrase");
  });
});
