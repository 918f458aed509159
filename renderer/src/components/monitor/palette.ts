// Line colours for overlaid runs, in the order runs are added; distinguishable in dark and light
// themes. Not a theme: the page colours live in styles.css.
const runColors = ['#6ea8fe', '#f0883e', '#4cc38a', '#d2a8ff', '#ff7b72', '#e3b341', '#39c5cf', '#f778ba'];

export function colorOf(index: number): string {
  return runColors[index % runColors.length];
}
