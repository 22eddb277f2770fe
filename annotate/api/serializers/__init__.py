"""REST serializers (one module per area of the API): explicit fields, strict types,
unknown fields refused.

Strict because a labelling pipeline that sends ``"start": "5"`` or ``"final": "yes"`` has a
bug that silent coercion would hide; refused (400, naming the field) rather than ignored
because a field that is silently dropped (``annotator``, ``project``, ``final`` on an
editor's annotation) looks to the caller as if it had worked. Writes go through the domain
services, which hold the rules; these classes only check shapes.
"""
