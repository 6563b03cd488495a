/**
 * The classifier's entry. The classifier itself lives in src/classify/ (start at its index.ts); this
 * file keeps the import path `./classify.ts` that the rest of faultline uses.
 */
export { classify, detectFailure, ERROR_BRAND, normalizeWireValue, parseDuration, PRECEDENCE, type ClassifyOptions } from './classify/index.ts';
