// Enhancements only: every page works without this script.
import { initAll } from '/static/nhsuk/nhsuk-frontend.min.js'

initAll()

// The hold countdown (WCAG 2.2.1). The page already says until when the time is held and
// offers more time; this keeps the minutes left up to date, and warns once (a polite live
// region) when two minutes are left and again when the hold has ended.
const WARN_AT_MINUTES = 2
const timer = document.querySelector('[data-hold-until]')
if (timer) {
  const until = Date.parse(timer.getAttribute('data-hold-until'))
  const left = timer.querySelector('[data-minutes-left]')
  const status = timer.querySelector('[data-hold-status]')
  let warned = false
  const update = () => {
    const minutes = Math.max(0, Math.ceil((until - Date.now()) / 60000))
    left.textContent = minutes === 1 ? '1 minute' : `${minutes} minutes`
    if (minutes === 0) {
      status.textContent = 'We are no longer holding this time. You can still try to confirm it, or choose another time.'
      clearInterval(ticking)
    } else if (minutes <= WARN_AT_MINUTES && !warned) {
      warned = true
      status.textContent = timer.querySelector('form')
        ? `You have ${left.textContent} left. Select ‘I need more time’ if you need longer.`
        : `You have ${left.textContent} left to confirm this time.`
    }
  }
  const ticking = setInterval(update, 15000)
  update()
}
