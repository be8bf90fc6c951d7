// Enhancements only: every console page works without this script.
import { initAll } from '/static/nhsuk/nhsuk-frontend.min.js'

initAll()

// Session timeout warning (WCAG 2.2.1): the page says the session ends after 20 minutes
// without use; two minutes before, a polite live region warns and offers "Stay signed in".
const WARN_AT_MS = 2 * 60 * 1000
const session = document.querySelector('[data-session-ends]')
if (session) {
  const ends = Date.parse(session.getAttribute('data-session-ends'))
  const status = session.querySelector('[data-session-status]')
  const stay = session.querySelector('[data-session-stay]')
  const check = () => {
    const left = ends - Date.now()
    if (left <= 0) {
      status.textContent = 'You have been signed out because the console was not used. Sign in again to carry on.'
      stay.hidden = true
      clearInterval(timer)
    } else if (left <= WARN_AT_MS && stay.hidden) {
      const minutes = Math.max(1, Math.ceil(left / 60000))
      status.textContent = `You will be signed out in ${minutes === 1 ? '1 minute' : `${minutes} minutes`} unless you carry on.`
      stay.hidden = false
    }
  }
  const timer = setInterval(check, 15000)
  check()
}
