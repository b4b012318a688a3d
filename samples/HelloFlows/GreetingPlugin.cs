using System.ComponentModel;
using Microsoft.SemanticKernel;

namespace HelloFlows;

/// <summary>The sample's tool, a Semantic Kernel plugin: agents call it as "Greeting-salutation".</summary>
public sealed class GreetingPlugin
{
    public const string PluginName = "Greeting";

    public const string SalutationTool = "Greeting-salutation";

    [KernelFunction("salutation")]
    [Description("How to greet someone in a language.")]
    public static string Salutation([Description("The language, e.g. French")] string language) =>
        language.Trim().ToUpperInvariant() switch
        {
            "FRENCH" => "Bonjour",
            "GERMAN" => "Guten Tag",
            "SPANISH" => "Hola",
            _ => "Hello",
        };
}
