import { packageFile } from "./package-files.js";

/** A template of the package's templates/ folder. */
export function templatePath(name: string): string {
  return packageFile(`templates/${name}`);
}
