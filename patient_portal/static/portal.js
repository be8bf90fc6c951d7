// Enhancements only: every page works without this script.
import { initAll } from '/static/nhsuk/nhsuk-frontend.min.js'

initAll()

// The hold countdown (WCAG 2.2.1): the page already says until when the time is held;
// this keeps the minutes left up to date and announces them once a minute (aria-live).
const timer = document.querySelector('[data-hold-until]')
if (timer) {
  const until = Date.parse(timer.getAttribute('data-hold-until'))
  const left = timer.querySelector('[data-minutes-left]')
  const update = () => {
    const minutes = Math.max(0, Math.ceil((until - Date.now()) / 60000))
    left.textContent = minutes === 1 ? '1 minute' : `${minutes} minutes`
  }
  update()
  setInterval(update, 60000)
}
