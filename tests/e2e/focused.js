// The element that has the keyboard focus, and whether its focus can be seen (an outline or
// a shadow); null when nothing is focused. Evaluated in the page by Playwright.
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  const key = el.id || el.getAttribute('name') || `${el.tagName.toLowerCase()}:${(el.textContent || '').trim().slice(0, 20)}`;
  return {key, visible: Boolean(outline || shadow)};
}
