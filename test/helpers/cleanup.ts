// Runs in every test file (vitest setupFiles): the folders its tests made go with it.
import { afterAll } from "vitest";
import { removeTmpDirs } from "./tmp.js";

afterAll(removeTmpDirs);
