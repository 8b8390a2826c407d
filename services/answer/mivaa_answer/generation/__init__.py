"""Answer generators: the extractive answerer and the OpenAI-compatible LLM, behind one interface."""
