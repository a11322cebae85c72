"""The API's own description: flask-smorest's Api, told what the app really sends. Errors are
RFC 9457 problem+json (rehab_net/errors.py), not flask-smorest's {code, status, message}, and the
X-Pagination header is JSON text, not an object a client could parse as a header value."""
from __future__ import annotations

import http

from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields

from rehab_net.errors import PROBLEM_JSON


class ProblemItemSchema(Schema):
    in_ = fields.String(data_key="in", metadata={
        "description": "where the field was: json (the body), query, headers, path"})
    field = fields.String(required=True, metadata={"description": "a.b for nested fields"})
    rule = fields.String(required=True, metadata={"description": "the rule it broke"})
    constraint = fields.String(metadata={"description": "the database rule that refused it"})
    case_code = fields.String(metadata={
        "description": "the open case that refuses a second one for the same person and service"})


class ProblemSchema(Schema):
    """What errors.problem() writes."""

    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.List(fields.Nested(ProblemItemSchema), metadata={
        "description": "each field of the request and the rule it broke"})


PAGINATION_HEADER = {
    "description": "JSON text of an object of integers: total and total_pages always; "
                   "first_page, last_page unless there are no items; page when it exists; "
                   "previous_page, next_page when there is one",
    "schema": {"type": "string",
               "example": '{"total": 25, "total_pages": 3, "first_page": 1, "last_page": 3, '
                          '"page": 2, "previous_page": 1, "next_page": 3}'},
}


class RehabApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        # flask-smorest's own, with the problem content type instead of the success one.
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem details)",
                    "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def _register_pagination_header(self):
        self.spec.components.header("PAGINATION", PAGINATION_HEADER, lazy=True)


# Bodies that are not JSON: flask-smorest documents a content type only with a schema.
TEXT_BODY = {"type": "string"}
FILE_BODY = {"type": "string", "format": "binary"}
FHIR_BUNDLE = {"type": "object", "description": "a FHIR R4 Bundle (resourceType Bundle)"}
