export { asMiddleware, chain, type Handler, type Middleware, type PolicyOf } from './middleware.js';
export {
  compose,
  Pipeline,
  PipelineBuilder,
  type PipelineExecuteOptions,
  type PipelineRateLimitOptions,
  type PipelineStage,
  pipeline,
} from './pipeline.js';
