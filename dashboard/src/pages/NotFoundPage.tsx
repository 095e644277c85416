import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <section className="center-page">
      <h1>Page not found</h1>
      <p>
        <Link to="/">Go home</Link>
      </p>
    </section>
  );
}
