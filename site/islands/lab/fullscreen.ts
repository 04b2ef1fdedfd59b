// Full screen for the lab panel: the Fullscreen API where the browser allows it (not in some iframes,
// not on iPhone), else a CSS "maximised" mode that covers the viewport.

export function setupFullscreen(panel: HTMLElement, button: HTMLButtonElement): void {
  const native = () => document.fullscreenElement === panel;
  const maximised = () => panel.classList.contains('is-maximized');
  const update = () => {
    const on = native() || maximised();
    button.setAttribute('aria-pressed', String(on));
    panel.toggleAttribute('data-fullscreen', on);
  };
  const setMaximised = (on: boolean) => {
    panel.classList.toggle('is-maximized', on);
    document.documentElement.classList.toggle('lab-maximized', on);
    update();
  };

  button.addEventListener('click', async () => {
    if (native()) return void document.exitFullscreen().catch(() => {});
    if (maximised()) return setMaximised(false);
    if (document.fullscreenEnabled && typeof panel.requestFullscreen === 'function') {
      try {
        await panel.requestFullscreen({ navigationUI: 'hide' });
        return;
      } catch {
        // refused (permissions policy, no user gesture…): the CSS mode below
      }
    }
    setMaximised(true);
  });
  document.addEventListener('fullscreenchange', update);
}
