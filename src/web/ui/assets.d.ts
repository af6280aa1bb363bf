// Stylesheets imported by the entry: esbuild puts them in app.css; to the type checker they are modules with nothing in them.
declare module '*.css';
