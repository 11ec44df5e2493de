/** The body of an error page: what went wrong and where to go from here. */
export function ErrorPage(props: { title: string; detail: string }) {
  return (
    <>
      <h1>{props.title}</h1>
      <p>{props.detail}</p>
      <p>
        <a href="/">Back to the home page</a>
      </p>
    </>
  );
}
