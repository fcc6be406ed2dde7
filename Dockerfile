# One image for web, worker, beat and the sandbox (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# With DEBUG off, as the image serves: only then does collectstatic write the manifest that
# CompressedManifestStaticFilesStorage needs (with DEBUG on every page would fail with
# "Missing staticfiles manifest entry"). The build needs no real secrets: throwaway ones
# satisfy the production settings and are not kept in the image.
RUN DJANGO_DEBUG=False SECRET_KEY=build-only-not-secret \
    CREDENTIAL_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput -v 0
RUN useradd --create-home app && mkdir -p /app/var && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "connector_site.wsgi:application", "-c", "connector_site/gunicorn_conf.py", "--bind", "0.0.0.0:8000", "--workers", "3"]
