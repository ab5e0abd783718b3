/* Shows the notifications the waitlist sends ({title, body}). */
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { data = { body: event.data.text() }; }
  event.waitUntil(self.registration.showNotification(data.title || "chargegrid", { body: data.body || "" }));
});
