// Loaded before every test file, as `fedalign serve` does before it loads Fedify.
import "../src/polyfills.ts";
