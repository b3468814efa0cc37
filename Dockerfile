# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt ./
COPY . .
RUN pip install --no-cache-dir -c constraints.txt -e . && mkdir -p /app/data
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--workers", "2", "--bind", "0.0.0.0:8000"]
