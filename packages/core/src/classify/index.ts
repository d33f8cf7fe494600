export {
  Classifier,
  type ClassifierParts,
  type ErrorMatcher,
  type ErrorPredicate,
  handle,
  handleAll,
  handleResult,
  handleWhen,
  isClassifier,
  type ResultPredicate,
} from './classifier.js';
