"""`yuqing bento` end to end: pack a tiny registered model into the BentoML store, build the bento
(offline, lock_packages false) and serve the built bento, which answers /classify with the packed
model (no registry lookup)."""

from __future__ import annotations

from tests.serving.conftest import copy_project, project_env, start_server, yuqing


def test_built_bento_serves_the_packed_model(trained_project, tmp_path):
    import httpx

    folder = copy_project(trained_project, tmp_path / "bento")
    env = project_env(folder)
    built = yuqing(env, "bento", timeout=600)
    assert "__tag__:yuqing:" in built.stdout + built.stderr
    server = start_server(env, folder / "serve.log", target="yuqing:latest", cwd=folder)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            response = http.post("/classify", json={"texts": ["星澜科技数据库遭黑客入侵，十万用户信息泄露"]})
            assert response.status_code == 200, response.text
            answer = response.json()[0]
            assert answer["crisis_type"] == "data_breach"
            assert answer["model_version"].startswith("bento:yuqing-classifier:")
            reload = http.post("/admin/reload", json={}, headers={"Authorization": f"Bearer {env['YUQING_API_KEYS'].split(',')[0]}"})
            assert reload.status_code == 200 and reload.json()["reloaded"] is False  # a bento's model is pinned
    finally:
        server.stop()
