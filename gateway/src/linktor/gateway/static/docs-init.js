// Starts Swagger UI on the document named by <body data-openapi="...">; kept out of the
// HTML so that a strict Content-Security-Policy (no inline scripts) still allows the page.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
  });
});
