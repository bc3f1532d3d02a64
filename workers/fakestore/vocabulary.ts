/**
 * Word lists the shop's records are drawn from. The project's own values, in the live API's
 * style: plain English product copy with a few typographic characters (’ ” –), American
 * addresses, and names. Changing a list changes every generated record, so treat it as data.
 */

/** The live API's four categories, spelled as it spells them (`jewelery`). */
export const CATEGORIES = [
  "men's clothing",
  "jewelery",
  "electronics",
  "women's clothing",
] as const;

export type Category = (typeof CATEGORIES)[number];

export const BRANDS = [
  "Northway",
  "Lumen",
  "Kestrel",
  "Aster & Vale",
  "Brightfold",
  "Marlow",
  "Oakhurst",
  "Quill",
  "Solace",
  "Tamsin",
  "Verity",
  "Wren",
] as const;

export const ADJECTIVES = [
  "Classic",
  "Slim Fit",
  "Lightweight",
  "Everyday",
  "Premium",
  "Vintage",
  "Rugged",
  "Soft",
  "Compact",
  "Waterproof",
  "Handmade",
  "Essential",
] as const;

export const NOUNS: Record<Category, readonly string[]> = {
  "men's clothing": [
    "Backpack",
    "Cotton T-Shirt",
    "Casual Jacket",
    "Chino Trousers",
    "Wool Sweater",
    "Oxford Shirt",
    "Denim Jacket",
  ],
  "jewelery": [
    "Silver Bracelet",
    "Gold Ring",
    "Pearl Earrings",
    "Pendant Necklace",
    "Rose Gold Studs",
    "Charm Anklet",
  ],
  "electronics": [
    "External Hard Drive",
    "SSD",
    "Wireless Earbuds",
    "Gaming Monitor",
    "USB-C Hub",
    "Mechanical Keyboard",
    "Portable Charger",
  ],
  "women's clothing": [
    "Rain Jacket",
    "Short Sleeve Top",
    "Knit Cardigan",
    "Linen Blouse",
    "Biker Jacket",
    "Moisture Wicking Tee",
  ],
};

/** Fragments that put the live API's non-ASCII punctuation into titles. */
export const TYPOGRAPHIC_SUFFIXES = [
  " – 2-Pack",
  " – Limited Edition",
  " 27” Edition",
  " (Women’s Cut)",
  " – Men’s Regular",
  " Café Collection",
] as const;

export const DESCRIPTION_SENTENCES = [
  "Made for daily use and built to last.",
  "A dependable choice for work, travel and everything in between.",
  "Machine wash cold, tumble dry low.",
  "Comes with a one-year limited warranty.",
  "Fits true to size; see the size chart for details.",
  "The colour on screen may differ slightly from the product.",
  "Recycled packaging, shipped within two business days.",
  "Compatible with most current devices.",
  "Hand-finished by a small workshop.",
  "Breathable fabric keeps you cool in summer.",
] as const;

export const FIRST_NAMES = [
  "john",
  "david",
  "kevin",
  "don",
  "derek",
  "david",
  "miriam",
  "william",
  "kate",
  "jimmie",
  "ana",
  "priya",
  "tomas",
  "lena",
  "omar",
  "grace",
  "noah",
  "sofia",
  "liam",
  "mei",
] as const;

export const LAST_NAMES = [
  "doe",
  "morrison",
  "ryan",
  "romer",
  "powell",
  "russell",
  "snyder",
  "hopkins",
  "hale",
  "klein",
  "garcia",
  "patel",
  "novak",
  "berg",
  "haddad",
  "okafor",
  "lindqvist",
  "moreau",
  "brennan",
  "tanaka",
] as const;

export const CITIES = [
  "kilcoole",
  "Cullman",
  "San Antonio",
  "El Paso",
  "Fresno",
  "Mesa",
  "Miami",
  "Fort Wayne",
  "Boise",
  "Tulsa",
  "Spokane",
  "Dayton",
] as const;

export const STREETS = [
  "new road",
  "Lovers Ln",
  "Frances Ct",
  "Hunters Creek Dr",
  "adams St",
  "prospect st",
  "saddle st",
  "Oak Lawn Ave",
  "Maple Ave",
  "Cedar Ridge Rd",
  "Willow Bend",
  "Harbor View Dr",
] as const;

export const EMAIL_DOMAINS = ["gmail.com", "example.com", "mail.test", "webshop.test"] as const;

/** Characters of generated passwords: no quote or backslash, so they survive any escaping. */
export const PASSWORD_ALPHABET =
  "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789$^_#@!%*";
