export { type ConvertedImage, convertOutputImage, falOutputFormat } from './convert-output.js';
export {
  ACCEPTED_INPUT_TYPES,
  DEFAULT_INPUT_LIMITS,
  type InputLimits,
  type PreparedImage,
  prepareInputImage,
} from './prepare-input.js';
export { CONTENT_TYPES, type DetectedType, describeDetected, detectImageType } from './sniff.js';
export { type StoreInputOptions, storeInputImage } from './store-input.js';
