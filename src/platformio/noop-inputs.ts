/**
 * The one list of what the hook's no-op decision (storeNeedsWork, headerIsCurrent,
 * layoutNeedsWork, libraryNeedsWork) reads from disk. The stamp records exactly these, and
 * firmware/esp_certs_hook.py skips Node.js only while all of them are as recorded, so a file
 * read by the decision but missing here would let the script skip a needed run.
 * Part of the hook's no-op path: no X.509 or template library.
 */
import { NO_CLIENT, platformioIniPath, type Config } from "../config/config.js";
import { storePaths } from "../store/paths.js";
import { HEADER_TEMPLATE } from "../render/header-inputs.js";
import { templatePath } from "../render/template-files.js";
import { layoutFiles } from "./layout-file.js";
import { libraryInputs } from "./library.js";

export interface NoopInputs {
  /** Files that must exist for a no-op; their content is read. */
  files: string[];
  /** Files read when present, whose appearing, change or disappearing matters (the CRL, the device library). */
  optional: string[];
  /** Paths whose appearing gives the hook work (the folder of an unfinished --new-ca). */
  absences: string[];
  /**
   * Files whose permission bits the decision reads: the header holds the client's private key,
   * so one found readable by others is not current (headerIsCurrent) and gets 0600 back.
   */
  modes: string[];
}

/** The store's files the build uses: the CA, the broker's certificate and key, and the client's when there is one. */
export function storeBuildFiles(config: Config, clientId: string): string[] {
  const p = storePaths(config.certDir);
  const c = p.client(clientId);
  const client = clientId === NO_CLIENT ? [] : [c.certPem, c.certDer, c.keyPem, c.keyDer];
  return [p.caCertPem, p.caCertDer, p.serverCertPem, p.serverCertDer, p.serverKey, ...client];
}

/** The inputs for building environment `env` with `clientId`. */
export function noopInputs(config: Config, clientId: string, env: string): NoopInputs {
  const p = storePaths(config.certDir);
  const layouts = layoutFiles(config, env).map((f) => f.path);
  return {
    files: [platformioIniPath(config.projectDir), p.manifest, ...storeBuildFiles(config, clientId), config.header, templatePath(HEADER_TEMPLATE), ...layouts],
    optional: [p.crlPem, ...libraryInputs(config.projectDir)],
    absences: [p.newCaDir],
    modes: [config.header],
  };
}

