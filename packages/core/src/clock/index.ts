export { type Clock, systemClock, unrefTimer } from './clock.js';
