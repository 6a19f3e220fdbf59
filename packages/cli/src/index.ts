export { KreplayCommand, EXIT } from './base.js';
