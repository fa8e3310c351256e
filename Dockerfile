# FWP Explorer: docker build -t fwp-explorer . && docker run -p 8501:8501 fwp-explorer
# CPU torch by default. For CUDA, pick PyTorch's CUDA wheel index at build time, e.g.
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 -t fwp-explorer:cuda .
# and run with `docker run --gpus all ...` (the app's device selector then offers CUDA).
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

RUN useradd --create-home --uid 10001 fwp
WORKDIR /app

# the same requirements file that `make run` installs
COPY requirements.txt pyproject.toml README.md ./
RUN pip install --extra-index-url "${TORCH_INDEX}" -r requirements.txt

COPY fwp_core ./fwp_core
COPY app ./app
COPY pages ./pages
COPY lessons ./lessons
COPY .streamlit ./.streamlit
RUN pip install --no-deps . && chown -R fwp:fwp /app

USER fwp
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status == 200 else 1)"]
# app.serve imports and warms everything, then runs `streamlit run app/main.py` with these options
CMD ["python", "-m", "app.serve", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"]
