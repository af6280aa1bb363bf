// The web UI's entry: the theme before the first paint (no flash of the
// wrong one), uPlot's styles into the bundle's CSS, then the app.

import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { App } from './app.js';
import { applyTheme, storedTheme } from './theme.js';

applyTheme(storedTheme());
const root = document.getElementById('app');
if (root !== null) render(<App />, root);
