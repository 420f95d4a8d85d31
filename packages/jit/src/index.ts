export * from './lock/index.js';
