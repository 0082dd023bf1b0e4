"""Import SMTP settings from the files admins keep them in: JavaMail and Spring Boot.

read.load_settings_file(path) picks the format by suffix and content and returns an Imported
(model.py). The readers live in read.py so that what only needs the model (every diagnosis
does) does not import them.
"""
