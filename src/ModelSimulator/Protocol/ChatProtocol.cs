namespace AgentOrchestrator.ModelSimulator.Protocol;

/// <summary>Fixed values of the OpenAI wire format used by the simulator.</summary>
internal static class ChatProtocol
{
    public const string SystemFingerprint = "fp_model_simulator";

    public const string AssistantRole = "assistant";

    public const string ToolRole = "tool";

    public const string UserRole = "user";
}
