// placeholder until the part lands
namespace xop { void placeholder_cli() {} }
