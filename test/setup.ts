// Loaded before every test file, as src/bin/fedalign.js does for the CLI.
import "../src/polyfills.ts";
