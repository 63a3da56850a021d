package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the OpenAPI 3 description of the REST API, served at
// /api/v1/openapi.json. A test checks it against the registered routes.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI serves the OpenAPI document.
func (a *API) OpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", openAPIDocument)
}
