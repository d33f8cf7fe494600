// Placeholder until the pattern lands; replaced by its own named re-exports.
export {};
