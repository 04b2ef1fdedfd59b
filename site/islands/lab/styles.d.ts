// Vite bundles imported stylesheets; for the type checker they are modules without exports.
declare module '*.css';
