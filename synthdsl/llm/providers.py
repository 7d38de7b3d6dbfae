"""Which model strings litellm can route, known without importing litellm (seconds).

Input: a model string as a recipe or ``--model`` writes it. Output: ``route_problem``,
None when the string is one litellm routes (or synthdsl serves itself: ``local/``,
``openai/``), else a message and a hint. Raises nothing.

litellm routes ``provider/model`` by its prefix, which must be one of its providers
(``litellm.provider_list`` and the OpenAI-compatible providers of its
``llms/openai_like/providers.json``), and a bare name (``gpt-4o-mini``) by looking it
up in its model table. ``PROVIDERS`` is that list for the pinned litellm (1.106.0);
``tests/llm/test_providers.py`` compares it with the installed litellm, so a version
bump that changes it fails a test rather than refusing a good recipe.
"""

from __future__ import annotations

from synthdsl.errors import closest
from synthdsl.llm.pricing import known_models

__all__ = ["PROVIDERS", "route_problem"]

#: Providers of litellm 1.106.0, by the prefix a model string gives them.
_NAMES = """
    a2a a2a_agent abliteration ai21 ai21_chat aihubmix aiml aiohttp_openai
    amazon_nova anthropic anthropic_text apertis assemblyai auto_router aws_polly
    aws_textract azure azure_ai azure_speech azure_text baseten bedrock
    bedrock_mantle black_forest_labs bytez cerebras charity_engine chatgpt chutes
    clarifai cloudflare codestral cognition cohere cohere_chat cometapi compactifai
    cortecs crusoe cursor custom custom_openai darkbloom dashscope databricks
    datarobot deepgram deepinfra deepseek docker_model_runner dotprompt edenai
    elevenlabs empiriolabs empower fal_ai featherless_ai fireworks_ai friendliai
    galadriel gdc gemini gigachat github github_copilot gmi gradient_ai groq
    helicone heroku hosted_vllm huggingface humanloop hyperbolic inception infinity
    jina_ai lambda_ai langflow langfuse langgraph lemonade libertai litellm_agent
    litellm_proxy llamafile llamagate lm_studio manus maritalk meta meta_llama
    milvus minimax mistral modelscope mongodb moonshot morph nadir nano-gpt nebius
    neosantara nlp_cloud novita nscale nvidia_nim nvidia_riva oci ollama ollama_chat
    oobabooga openai openai_like openrouter ovhcloud parasail perplexity petals
    pg_vector pinstripes poe predibase prism publicai qwen_ai_platform qwencloud
    ragflow recraft reducto reka replicate runwayml s3_vectors sagemaker
    sagemaker_chat sagemaker_nova sail sambanova sap sarvam scaleway scx-ai
    snowflake soniox stability strands_decider synthetic tencent tensormesh
    text-completion-codestral text-completion-inception text-completion-openai
    together_ai topaz transcribe triton typesafe v0 valkey veniceai
    vercel_ai_gateway vertex_ai vertex_ai_beta vllm volcengine voyage wandb watsonx
    watsonx_text xai xiaomi_mimo xinference zai
"""
PROVIDERS = frozenset(_NAMES.split())

#: Prefixes synthdsl serves itself: the embedded model and OpenAI-compatible endpoints.
OWN_PREFIXES = frozenset({"local", "openai"})

#: Words people write for the embedded model, pointed at ``local/``.
_EMBEDDED_WORDS = frozenset({"embedded", "embeded", "embed", "llamacpp", "llama.cpp", "gguf"})


def route_problem(model: str, *, api_base: str | None = None) -> tuple[str, str] | None:
    """Why litellm would not know where to send ``model``: ``(message, hint)``, or None.

    A prefix that is no provider fails in litellm ("LLM Provider NOT provided"), unless
    ``api_base`` is one of the endpoints it recognises, so with an ``api_base`` the
    caller should only warn. A bare name that litellm's model table lacks fails the same
    way, except the names it routes by pattern (fine-tunes ``ft:...``, ``name:version``).
    """
    prefix, slash, _ = model.partition("/")
    known = known_models()
    if slash:
        if prefix in PROVIDERS or prefix in OWN_PREFIXES or model in known:
            return None
        close = (
            "local"
            if prefix.lower() in _EMBEDDED_WORDS
            else closest(prefix, PROVIDERS | OWN_PREFIXES)
        )
        return (
            f"model '{model}': '{prefix}/' is not a provider litellm knows",
            (f"did you mean '{close}/...'? " if close else "")
            + "write provider/model (openai/..., anthropic/..., local/smollm2), or "
            "openai/<name> with api_base for any OpenAI-compatible server",
        )
    if model in known or not known or ":" in model or model.startswith("gpt-image"):
        # ``ft:gpt-4o:org::id`` and replicate's ``name:version`` are routed by pattern;
        # with no table (litellm missing) there is nothing to check against
        return None
    close = closest(model, (m for m in known if "/" not in m))
    return (
        f"model '{model}' names no provider, and litellm's model table has no '{model}'",
        (f"did you mean '{close}'? " if close else "")
        + "write provider/model (openai/gpt-4o-mini, anthropic/..., local/smollm2)",
    )
