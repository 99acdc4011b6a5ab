// Copies the files the app serves from node_modules into vendor/ (run by `npm ci`), so that
// the Python package carries them: the wheel includes vendor/, never node_modules/.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const files = {
  "echarts.min.js": "echarts/dist/echarts.min.js",
  "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
  "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
};
mkdirSync(join(here, "vendor"), { recursive: true });
for (const [name, source] of Object.entries(files)) {
  copyFileSync(join(here, "node_modules", source), join(here, "vendor", name));
}
