export { asMiddleware, chain, type Handler, type Middleware } from './middleware.js';
