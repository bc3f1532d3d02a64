/**
 * Bad rows planted in the marts to prove which rows a dbt test reads (docs/decisions/0038): each
 * breaks exactly one data test, is dated on a chosen day, and is written as `transformer`, the
 * role that writes the marts. Each copies a real row (whatever columns the table has) and
 * overrides only what makes it bad.
 */
import { withClient } from "./support.ts";

/** The data tests the planted rows break, by dbt test name. */
export const PLANTED_FAILURES = [
  // an order line pointing at a product version that does not exist
  "relationships_fct_orders_product_key__product_key__ref_dim_products_",
  // a cart line with a negative quantity
  "expression_is_true_int_cart_lines_unnested_quantity__quantity_0",
];

const PLANTED_LINE_ID = "planted-bad-line";

/** Plants one bad fct_orders line and one bad cart line, both ordered at noon UTC on `day`. */
export async function plantBadRows(day: string): Promise<void> {
  const orderedAt = `${day}T12:00:00Z`;
  await withClient("transformer", async (client) => {
    await client.query(
      `insert into marts.fct_orders
       select (jsonb_populate_record(null::marts.fct_orders, to_jsonb(line) || jsonb_build_object(
           'order_line_id', $1::text, 'product_key', 'planted-missing-key',
           'ordered_at', $2::timestamptz))).*
         from marts.fct_orders as line limit 1`,
      [PLANTED_LINE_ID, orderedAt],
    );
    await client.query(
      `insert into intermediate.int_cart_lines_unnested
       select (jsonb_populate_record(null::intermediate.int_cart_lines_unnested,
           to_jsonb(line) || jsonb_build_object(
               'order_line_id', $1::text, 'quantity', -1, 'ordered_at', $2::timestamptz))).*
         from intermediate.int_cart_lines_unnested as line limit 1`,
      [PLANTED_LINE_ID, orderedAt],
    );
  });
}

/** Removes the planted rows (a no-op when there are none). */
export async function removeBadRows(): Promise<void> {
  await withClient("transformer", async (client) => {
    await client.query(`delete from marts.fct_orders where order_line_id = $1`, [PLANTED_LINE_ID]);
    await client.query(
      `delete from intermediate.int_cart_lines_unnested where order_line_id = $1`,
      [PLANTED_LINE_ID],
    );
  });
}
