// Vite bundles imported stylesheets; `?inline` gives the processed CSS as a string.
declare module '*.css';
declare module '*.css?inline' {
  const css: string;
  export default css;
}
