// Starts Swagger UI on balsam-server's OpenAPI document (kept out of the HTML so the
// page works under a strict Content-Security-Policy).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
  });
});
