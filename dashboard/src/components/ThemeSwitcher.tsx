import { ToggleGroup } from "radix-ui";
import { useTheme, type Theme } from "../lib/theme";

export const THEME_OPTIONS: { value: Theme; label: string }[] = [
  { value: "system", label: "System" },
  { value: "light", label: "Light" },
  { value: "dark", label: "Dark" },
];

export function ThemeSwitcher() {
  const [theme, setTheme] = useTheme();
  return (
    <ToggleGroup.Root
      type="single"
      className="segmented"
      aria-label="Colour theme"
      value={theme}
      onValueChange={(v) => v && setTheme(v as Theme)}
    >
      {THEME_OPTIONS.map((o) => (
        <ToggleGroup.Item key={o.value} value={o.value} className="segmented-item">
          {o.label}
        </ToggleGroup.Item>
      ))}
    </ToggleGroup.Root>
  );
}
