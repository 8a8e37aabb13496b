"""Names the code binds to at import time (Chalice needs queue names in its decorators).

Every other resource name reaches the code through settings. `infra/declarations.py` declares the resources
behind these names; a test checks that every queue an event handler listens to is declared there.
"""

UPLOAD_EVENTS_QUEUE = "cmsp-upload-events"
IMPORT_JOBS_QUEUE = "cmsp-import-jobs"
PERMIT_TASKS_QUEUE = "cmsp-permit-tasks"
# The main table's change stream. Chalice needs a literal ARN in its decorator; the merge template replaces it with
# the table's real StreamArn (infra/template.py) and the local runtime reads the stream it finds on the table.
MAIN_TABLE_STREAM_PLACEHOLDER = "arn:aws:dynamodb:us-east-1:000000000000:table/cmsp-main/stream/placeholder"
