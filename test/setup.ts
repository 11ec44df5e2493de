// Loaded before every test file, as `fedalign serve` does before it loads Fedify.
import "../src/polyfills.ts";

// Password hashes at scrypt N = 2^10 (about a millisecond) instead of the
// default 2^17 (about half a second of a core each): the browser tests sign
// in and create many people. Set in the environment, so the `fedalign`
// processes the tests spawn (test/harness.ts passes process.env on) use it
// too. test/sign-in-limits.test.ts checks the default and changes of cost.
process.env.FEDALIGN_PASSWORD_HASH_COST ??= "10";
