// The interactive API docs: Swagger UI (served from vendor/, installed from npm) on our schema.
"use strict";
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
