"""The Blueprint every /api/v1 module uses: flask-smorest's, with query strings checked by their
schema (QueryArgs: an unknown parameter is a 422) and paging documented once."""
from __future__ import annotations

import flask_smorest
from webargs.flaskparser import FlaskParser

from rehab_net.db import get_session


class ArgumentsParser(FlaskParser):
    # webargs drops unknown query parameters whatever the schema says; docs/api.md promises a
    # 422 naming them, so the schema's Meta.unknown (RAISE in QueryArgs) decides instead.
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": None, "querystring": None}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ArgumentsParser()

    def _prepare_pagination_doc(self, doc, doc_info, *, spec, **kwargs):
        """page and page_size are fields of the list's own query schema (PageArgs, where they are
        bounded), so only the 422 response and the X-Pagination header are added here."""
        operation = doc_info.get("pagination")
        if operation:
            doc.setdefault("responses", {}).update(operation["response"])
            for status in doc_info.get("success_status_codes", []):
                self._document_pagination_metadata(spec, doc["responses"][status])
        return doc

    def update_checked(self, row, schema, update, data: dict, **kw):
        """A PATCH's (or PUT's) common end: refuse a stale If-Match (flask-smorest's 412/428),
        apply ``update(session, row, data, **kw)`` and flush, so the answer and its ETag show the
        row as the database has it now."""
        session = get_session()
        self.check_etag(row, schema)
        update(session, row, data, **kw)
        session.flush()
        return row

