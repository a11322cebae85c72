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
    rule = fields.String(required=True, metadata={"description": "the rule it broke (English)"})
    code = fields.String(required=True, metadata={
        "description": "the rule's stable code, e.g. person.id_check_character; field.invalid for "
                       "a rule without one of its own (the schema's, e.g. a missing field)",
        "example": "referral.wrong_tier_up"})
    params = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "the values the rule names, by placeholder (the English text is the "
                       "code's message filled with them)"})
    constraint = fields.String(metadata={"description": "the database rule that refused it"})
    case_code = fields.String(metadata={
        "description": "the open case that refuses a second one for the same person and service"})


class ProblemSchema(Schema):
    """What errors.problem() writes."""

    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    code = fields.String(required=True, metadata={
        "description": "a stable code of the refusal, to tell refusals apart without reading the "
                       "English detail: e.g. referral.wrong_state, auth.grant_self; for a 422 of "
                       "one field the field's rule code; otherwise the status's (bad_request, "
                       "forbidden, not_found, conflict, invalid, ...)",
        "example": "referral.wrong_state"})
    params = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "the values the detail names, by placeholder; a 422 of one field adds "
                       "field", "example": {"state": "sent", "past": "accepted",
                                             "allowed": "received"}})
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
